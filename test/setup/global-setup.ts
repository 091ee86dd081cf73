/**
 * Vitest global setup: starts the throwaway services the suite needs (see ./services.ts) and stops them after.
 * Connection details reach test files through process.env (workers are forked after this runs):
 *   VR_TEST_POSTGRES_URL   superuser URL of a fresh PostgreSQL 15 cluster (use createTestDatabase() for isolation)
 *   VR_TEST_REDIS_HOST / VR_TEST_REDIS_PORT   a fresh Redis (tests that stop Redis start their own: startRedis())
 */
import { ENV, startPostgres, startRedis, type PostgresService, type RedisService } from "./services.js";

let pg: PostgresService | undefined;
let redis: RedisService | undefined;

export async function setup(): Promise<void> {
  const started = await Promise.allSettled([startPostgres(), startRedis()]);
  const [pgResult, redisResult] = started;
  if (pgResult.status === "fulfilled") pg = pgResult.value;
  if (redisResult.status === "fulfilled") redis = redisResult.value;
  const failures = started.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    // Stop whichever did start, then fail the whole run loudly: a missing service must never become a skip.
    await teardown();
    throw new AggregateError(failures, `test services failed to start: ${failures.map(String).join("; ")}`);
  }
  process.env[ENV.postgresUrl] = pg!.url;
  process.env[ENV.redisHost] = redis!.host;
  process.env[ENV.redisPort] = String(redis!.port);
}

export async function teardown(): Promise<void> {
  const stops = await Promise.allSettled([pg?.stop(), redis?.dispose()]);
  pg = undefined;
  redis = undefined;
  const failures = stops.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (failures.length > 0) throw new AggregateError(failures, "stopping test services failed");
}
