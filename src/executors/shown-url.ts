/**
 * How executors name a task-chosen URL in messages and logs. The query string may hold an
 * API key or a token and the user info a password, so only the origin and path are shown.
 */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
