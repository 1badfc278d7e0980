export * from './tokenize';
export * from './keywords';
export * from './hash';
export * from './options';
export * from './winnow';
export * from './extract-code-blocks';
export * from './extract-added-lines';
