import { z } from 'zod';

/** One bad variable: its name and the sentence that says what was expected and what was found. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

const MAX_SHOWN_VALUE_LENGTH = 80;
/** Values of these variables are never echoed back, only their length. */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|(^|_)KEY$|PRIVATE/i;

/** Thrown by `loadConfig`: the message lists every bad variable, one a line, so a single restart fixes them all. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} ${problems.length === 1 ? 'variable' : 'variables'}); ` +
        `fix the environment and restart:\n` +
        problems.map((problem) => `  ${problem.message}`).join('\n'),
    );
  }
}

/**
 * Validates `env` against `schema` and returns the typed configuration. Empty strings count as unset, so
 * `FOO=` in a manifest falls back to the default instead of failing on "". Throws `ConfigError`.
 */
export function loadConfig<S extends z.ZodObject<z.ZodRawShape>>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') {
      input[key] = value;
    }
  }
  const result = schema.safeParse(input);
  if (result.success) {
    return result.data;
  }
  throw new ConfigError(describeIssues(schema, result.error.issues, input));
}

function describeIssues(
  schema: z.ZodObject<z.ZodRawShape>,
  issues: readonly z.ZodIssue[],
  input: Record<string, string>,
): ConfigProblem[] {
  const problems = new Map<string, ConfigProblem>();
  for (const issue of issues) {
    const variable = issue.path.length > 0 ? String(issue.path[0]) : '(configuration)';
    if (problems.has(variable)) {
      continue; // one line per variable: the first issue already says what is expected
    }
    const expected = schema.shape[variable]?.description;
    const got = describeValue(variable, input[variable]);
    const message = expected
      ? `${variable}: expected ${expected}, got ${got}`
      : `${variable}: ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}, got ${got}`;
    problems.set(variable, { variable, message });
  }
  return [...problems.values()];
}

/** How a bad value is shown: never a secret, never URL credentials, never a wall of text. */
export function describeValue(variable: string, value: string | undefined): string {
  if (value === undefined) {
    return 'nothing';
  }
  if (SECRET_NAME.test(variable)) {
    return `a value of ${value.length} characters`;
  }
  let shown = value;
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
      shown = url.toString();
    }
  } catch {
    // not a URL: shown as is
  }
  if (shown.length > MAX_SHOWN_VALUE_LENGTH) {
    shown = `${shown.slice(0, MAX_SHOWN_VALUE_LENGTH)}…`;
  }
  return JSON.stringify(shown);
}
