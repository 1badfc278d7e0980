// vllm-sim as its own process for bench:gateway, with the benchmark's fixed profile.
import { startVllmSim } from '@tokenwise/vllm-sim';
import { watchVitals } from './vitals';

const sim = await startVllmSim({
  model: process.env.BENCH_MODEL ?? 'bench-model',
  maxNumSeqs: 1024,
  latency: { ttftMs: 20, tpotMs: 1, tpotGrowthPerRunningSeq: 0 },
  outputTokens: { min: 32, max: 32 },
  seed: 1,
});
process.send?.({ type: 'ready', url: sim.url });
const vitals = watchVitals();
process.on('message', (message: { type: string }) => {
  if (message.type === 'reset') {
    vitals.reset();
    process.send?.({ type: 'reset' });
  } else if (message.type === 'stats') process.send?.({ type: 'stats', ...vitals.read() });
  else if (message.type === 'stop') void sim.close().then(() => process.exit(0));
});
