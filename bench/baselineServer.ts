import http from 'node:http';
import { Pool } from 'pg';

/**
 * The baseline of `npm run bench:listings`: the same upsert as the API (INSERT … ON CONFLICT on
 * the listings table, through pg) behind a bare Node HTTP handler with no framework, no auth,
 * no validation, no events and no workflow start. It bounds what the API could reach.
 */
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });
const orgId = process.env.BASELINE_ORG_ID as string;

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    try {
      const listing = JSON.parse(body);
      const { rows } = await pool.query(
        `insert into listings (org_id, external_ref, title, street, house_number, zip_code, city, property_type, living_area, rooms, rent_cold, status, normalized_address)
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
         on conflict (org_id, external_ref) where deleted_at is null
         do update set title = excluded.title, rent_cold = excluded.rent_cold, revision = listings.revision + 1, updated_at = now()
         returning *`,
        [orgId, listing.external_ref, listing.title, listing.street, listing.house_number, listing.zip_code, listing.city, listing.property_type, listing.living_area, listing.rooms, listing.rent_cold, listing.status, `${listing.street}|${listing.house_number}|${listing.zip_code}`],
      );
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: rows[0] }));
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('baseline listening'));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
