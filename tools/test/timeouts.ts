// jest's `testTimeout` is a global option: when the root config runs every project together, a project's own
// value is ignored. Each project sets its default here instead (setupFilesAfterEnv is per project).
const fromEnv = Number(process.env.RF_TEST_TIMEOUT_MS);
jest.setTimeout(Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 60_000);
