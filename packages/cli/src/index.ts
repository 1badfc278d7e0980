export { commandNames, main } from './main';
export { loadConfig, type Config } from './config';
