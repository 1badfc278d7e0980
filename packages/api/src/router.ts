import { adminRouter } from './routers/admin';
import { carbonRouter } from './routers/carbon';
import { experimentsRouter } from './routers/experiments';
import { grantsRouter } from './routers/grants';
import { keysRouter } from './routers/keys';
import { meRouter } from './routers/me';
import { pluginsRouter } from './routers/plugins';
import { policiesRouter } from './routers/policies';
import { scoresRouter } from './routers/scores';
import { usageRouter } from './routers/usage';
import { createCallerFactory, router } from './trpc';

export const appRouter = router({
  me: meRouter,
  keys: keysRouter,
  usage: usageRouter,
  scores: scoresRouter,
  policies: policiesRouter,
  plugins: pluginsRouter,
  grants: grantsRouter,
  admin: adminRouter,
  carbon: carbonRouter,
  experiments: experimentsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
