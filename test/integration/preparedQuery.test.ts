import { preparedQuery } from '../../src/db/sql';
import { TestContext, createTestContext } from '../support/context';

/** `preparedQuery` on the real Postgres: named statements, on the caller's connection. */
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx.close();
});

const preparedOnThisConnection = (trx: TestContext['deps']['db']) =>
  trx.raw<{ rows: { name: string; statement: string }[] }>("select name, statement from pg_prepared_statements where name like 'immoflow_%' order by name");

it('runs inside a transaction, on its connection, and rolls back with it', async () => {
  const marker = `prepared-${Date.now()}`;
  await expect(
    ctx.deps.db.transaction(async (trx) => {
      await trx.raw('create temporary table prepared_probe (value text) on commit drop');
      await trx.raw('insert into prepared_probe values (?)', [marker]);
      const { rows } = await preparedQuery<{ n: number }>(trx, 'select count(*)::int as n from prepared_probe where value = ?', [marker]);
      expect(rows[0].n).toBe(1);
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
});

it('names a text once and reuses the name: Postgres parses it once per connection', async () => {
  await ctx.deps.db.transaction(async (trx) => {
    const sql = 'select ?::int + 1 as next';
    for (const value of [1, 2, 3]) {
      const { rows } = await preparedQuery<{ next: number }>(trx, sql, [value]);
      expect(rows[0].next).toBe(value + 1);
    }
    const { rows } = await preparedOnThisConnection(trx);
    const mine = rows.filter((row) => row.statement === 'select $1::int + 1 as next');
    expect(mine).toHaveLength(1);
    expect(mine[0].name).toMatch(/^immoflow_\d+$/);
  });
});

it('stops naming new texts after 64, so built-up texts cannot grow every connection without bound', async () => {
  await ctx.deps.db.transaction(async (trx) => {
    for (let i = 0; i < 80; i += 1) {
      const { rows } = await preparedQuery<{ value: number }>(trx, `select ?::int as value, ${i} as text_number`, [i]);
      expect(rows[0].value).toBe(i);
    }
    const { rows } = await preparedOnThisConnection(trx);
    expect(rows.length).toBeLessThanOrEqual(64);
    expect(rows.length).toBeGreaterThan(50);
  });
});
