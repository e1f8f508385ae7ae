// sdk.mjs drives a Rampart gateway with the official OpenAI SDK for
// Node.js, the way an application would, and prints what it saw as one
// JSON object on standard output. The Go test (e2e/sdk_test.go) asserts it.
//
// Environment: RAMPART_BASE_URL (the gateway's .../v1), RAMPART_API_KEY (a
// Rampart key), RAMPART_BLOCKED_PROMPT (a prompt the gateway's policy
// blocks).
import OpenAI, { APIError } from 'openai';
import { VERSION } from 'openai/version';

const need = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`sdk.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

const client = new OpenAI({
  baseURL: need('RAMPART_BASE_URL'),
  apiKey: need('RAMPART_API_KEY'),
  maxRetries: 0,
  timeout: 30_000,
});
const blockedPrompt = need('RAMPART_BLOCKED_PROMPT');

// Every step runs even when an earlier one failed; a failure is recorded
// as {error: ...} for the Go test to report.
const out = { sdkVersion: VERSION };
async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = { error: String(err?.stack ?? err) };
  }
}

function describeError(err) {
  return {
    isAPIError: err instanceof APIError,
    className: err?.constructor?.name ?? null,
    status: err?.status ?? null,
    message: err?.message ?? String(err),
    code: err?.code ?? null,
    type: err?.type ?? null,
    requestID: err?.requestID ?? null,
    detector: err?.error?.detector ?? null,
  };
}

await step('chat', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello.' }] })
    .withResponse();
  return {
    content: data.choices[0]?.message?.content ?? null,
    finishReason: data.choices[0]?.finish_reason ?? null,
    usage: data.usage ?? null,
    requestID: response.headers.get('x-request-id'),
  };
});

await step('stream', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Say hello, slowly.' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    .withResponse();
  const deltas = [];
  let finishReason = null;
  let usage = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta?.content) deltas.push(c.delta.content);
    if (c?.finish_reason) finishReason = c.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { deltas, content: deltas.join(''), finishReason, usage, requestID: response.headers.get('x-request-id') };
});

await step('embeddings', async () => {
  const r = await client.embeddings.create({
    model: 'text-embedding-3-small',
    input: ['first text', 'second text'],
    encoding_format: 'float',
  });
  return { count: r.data.length, first: r.data[0]?.embedding ?? null, model: r.model, usage: r.usage ?? null };
});

// The SDK's default: it asks for base64 and decodes the vectors itself.
await step('embeddingsDefault', async () => {
  const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'third text' });
  const e = r.data[0]?.embedding;
  return { count: r.data.length, first: e ? Array.from(e) : null };
});

await step('models', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  return { ids };
});

await step('blocked', async () => {
  try {
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: blockedPrompt }],
    });
    return { unexpectedSuccess: r.choices[0]?.message?.content ?? '' };
  } catch (err) {
    return describeError(err);
  }
});

await step('blockedStream', async () => {
  try {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: blockedPrompt }],
      stream: true,
    });
    const deltas = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta?.content ?? '');
    return { unexpectedSuccess: deltas.join('') };
  } catch (err) {
    return describeError(err);
  }
});

await step('badKey', async () => {
  const bad = new OpenAI({ baseURL: client.baseURL, apiKey: 'sk-not-a-rampart-key', maxRetries: 0, timeout: 30_000 });
  try {
    await bad.models.list();
    return { unexpectedSuccess: true };
  } catch (err) {
    return describeError(err);
  }
});

process.stdout.write(JSON.stringify(out) + '\n');
