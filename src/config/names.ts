// Plain constants (no zod): the CLI checks its arguments with them before loading any schema library.

export const OPS = ['insert', 'update', 'delete', 'upsert'] as const;

/** Names that end up in SQL, URLs and metric labels: kept to a safe alphabet. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
