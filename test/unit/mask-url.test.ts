import { describe, expect, it } from 'vitest';
import { maskUrl } from '../../src/lib/mask-url';

describe('maskUrl', () => {
  it('masks the whole password, whatever it holds', () => {
    expect(maskUrl('postgres://app:pa:ss@db:5432/sluice')).toBe('postgres://app:***@db:5432/sluice');
    expect(maskUrl('postgres://app:p@ss@db/sluice')).toBe('postgres://app:***@db/sluice');
    expect(maskUrl('postgresql://app:p%40ss%3Aw@db/sluice?sslmode=require')).toBe(
      'postgresql://app:***@db/sluice?sslmode=require',
    );
    expect(maskUrl('postgres://app@db/sluice?password=se:cr@t')).toBe(
      'postgres://app@db/sluice?password=***',
    );
  });
  it('leaves URLs without a password as they are and never shows text that is not a URL', () => {
    expect(maskUrl('postgres://db/sluice')).toBe('postgres://db/sluice');
    expect(maskUrl('host=db password=secret')).toBe('(unparsable URL, not shown)');
  });
});
