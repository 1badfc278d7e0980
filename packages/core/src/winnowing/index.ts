export * from './tokenize';
export * from './keywords';
export * from './hash';
export * from './options';
export * from './winnow';
