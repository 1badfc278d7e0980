// The writer thread's entry when Tokenwise runs from source (tests, tsx): loads writer-thread.ts through
// tsx. A service run from its bundle starts the bundled writer-thread instead (threaded-writer.ts).
import { tsImport } from 'tsx/esm/api';

await tsImport(new URL('./writer-thread.ts', import.meta.url).href, import.meta.url);
