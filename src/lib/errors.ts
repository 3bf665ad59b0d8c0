/**
 * The one error shape inside Sluice: a code, whether trying again may help, and the cause. Every catch
 * goes through coerceError so the rest of the code handles one type.
 */
export class SluiceError extends Error {
  override name = 'SluiceError';
  constructor(
    readonly code: string,
    message: string,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}
