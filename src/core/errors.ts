/** The codes a client may see in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'RATE_LIMITED';

/**
 * An expected failure with a message written for a data steward. Services
 * throw these; everything else is treated as a bug and masked.
 */
export class MuluError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'MuluError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) => new MuluError('BAD_USER_INPUT', message, details);
export const notFound = (message: string) => new MuluError('NOT_FOUND', message);
export const conflict = (message: string) => new MuluError('CONFLICT', message);
export const forbidden = (message: string) => new MuluError('FORBIDDEN', message);
export const unauthenticated = (message: string) => new MuluError('UNAUTHENTICATED', message);
export const tooLarge = (message: string, details?: Record<string, unknown>) => new MuluError('PAYLOAD_TOO_LARGE', message, details);
