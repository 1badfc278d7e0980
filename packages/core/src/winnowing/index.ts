export * from './tokenize';
export * from './keywords';
