import { installTemporalRuntime } from '@tokenwise/workflows/runtime';
// Temporal's client and worker load the payload converter with require(); this lets require()
// compile the TypeScript source in test processes as tsx does for `npm start`.
import { register } from 'tsx/cjs/api';

register();
installTemporalRuntime('WARN');
