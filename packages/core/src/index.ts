export * from './amount';
export * from './codec';
export * from './currency';
export * from './errors';
export * from './invariant';
export * from './schemas';
