import { describe, expect, it } from "vitest";
import { isSecretKey, REDACTED, redactSecrets } from "../../src/core/redact.js";
import type { JsonValue } from "../../src/core/types.js";

describe("isSecretKey", () => {
  it.each([
    "password",
    "PASSWORD",
    "db_password",
    "passwd",
    "passphrase",
    "secret",
    "client_secret",
    "clientSecret",
    "token",
    "access_token",
    "refreshToken",
    "X-Auth-Token",
    "api_key",
    "apiKey",
    "X-API-Key",
    "authorization",
    "Proxy-Authorization",
    "cookie",
    "Set-Cookie",
    "private_key",
    "privateKey",
    "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY",
    "credentials",
    "session_id",
    "db_pwd",
    "x-csrf-token",
  ])("treats %s as secret", (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each([
    "name",
    "url",
    "max_tokens",
    "tokenCount",
    "token_usage",
    "username",
    "PWD",
    "keyboard",
    "author",
    "method",
  ])("leaves %s alone", (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe("redactSecrets", () => {
  it("masks secret values at any depth, including inside arrays", () => {
    const input: JsonValue = {
      url: "https://api.example.com/x",
      headers: { Authorization: "Bearer abc", Accept: "application/json" },
      env: { DB_PASSWORD: "pw", HOME: "/root" },
      items: [{ token: "t1", id: 1 }, "plain"],
      nested: { deeper: { client_secret: { any: "shape" } } },
    };
    expect(redactSecrets(input)).toEqual({
      url: "https://api.example.com/x",
      headers: { Authorization: REDACTED, Accept: "application/json" },
      env: { DB_PASSWORD: REDACTED, HOME: "/root" },
      items: [{ token: REDACTED, id: 1 }, "plain"],
      nested: { deeper: { client_secret: REDACTED } },
    });
  });

  it("keeps null secrets null, so absence stays visible", () => {
    expect(redactSecrets({ password: null, token: "" })).toEqual({ password: null, token: REDACTED });
  });

  it("masks the secret members of auth objects and keeps their description", () => {
    expect(redactSecrets({ auth: { type: "bearer", token: "t" } })).toEqual({
      auth: { type: "bearer", token: REDACTED },
    });
    expect(redactSecrets({ auth: { type: "basic", username: "ann", password: "pw" } })).toEqual({
      auth: { type: "basic", username: "ann", password: REDACTED },
    });
    expect(redactSecrets({ auth: { type: "apiKey", header: "X-Key", in: "header", value: "k" } })).toEqual({
      auth: { type: "apiKey", header: "X-Key", in: "header", value: REDACTED },
    });
    // apflow's own shape: { type: "apikey", key, value, location }
    expect(redactSecrets({ Auth: { type: "apikey", key: "k", value: "v", location: "query" } })).toEqual({
      Auth: { type: "apikey", key: REDACTED, value: REDACTED, location: "query" },
    });
    expect(redactSecrets({ auth: "user:pass" })).toEqual({ auth: REDACTED });
  });

  it("masks credentials and secret query parameters inside URL strings", () => {
    expect(redactSecrets({ dsn: "postgres://app:s3cret@db:5432/main" })).toEqual({
      dsn: "postgres://app:REDACTED@db:5432/main",
    });
    expect(redactSecrets("https://api.example.com/v1?api_key=abc&page=2")).toBe(
      "https://api.example.com/v1?api_key=REDACTED&page=2",
    );
    expect(redactSecrets("https://example.com/?page=2")).toBe("https://example.com/?page=2");
    expect(redactSecrets("not a url ? really")).toBe("not a url ? really");
  });

  it("leaves scalars and non-secret structures as they are, without changing the input", () => {
    const input = { count: 3, ok: true, none: null, list: [1, "two"], password: "pw" };
    const copy = structuredClone(input);
    expect(redactSecrets(input)).toEqual({ ...copy, password: REDACTED });
    expect(input).toEqual(copy);
    expect(redactSecrets(42)).toBe(42);
    expect(redactSecrets(null)).toBeNull();
  });
});
