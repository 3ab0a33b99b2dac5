import type { Logger } from 'pino';
import type { AuthContext } from '../identity/authContext';

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    log: Logger;
    auth?: AuthContext;
  }
}
