export { main, usage } from './main';
export { loadConfig, type Config } from './config';
