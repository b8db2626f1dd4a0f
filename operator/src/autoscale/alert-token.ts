// The optional bearer token POST /alerts requires, from a Secret: as an environment variable
// (BOLIDE_ALERT_TOKEN, what the Helm chart sets from secretKeyRef) or a mounted file
// (BOLIDE_ALERT_TOKEN_FILE).

import { readFileSync } from 'node:fs';

/** undefined = no token required. Throws when the file is named but unreadable or empty. */
export function readAlertToken(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string | undefined {
  const file = env.BOLIDE_ALERT_TOKEN_FILE;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      throw new Error(`BOLIDE_ALERT_TOKEN_FILE ${file}: ${(err as Error).message}`);
    }
    const token = text.trim();
    if (token === '') throw new Error(`BOLIDE_ALERT_TOKEN_FILE ${file} is empty`);
    return token;
  }
  const token = env.BOLIDE_ALERT_TOKEN?.trim();
  return token ? token : undefined;
}
