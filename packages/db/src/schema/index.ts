export * from './audit';
export * from './orgs';
export * from './users';
export * from './columns';
export * from './ledger';
export * from './gateway';
export * from './settlement';
export * from './clusters';
