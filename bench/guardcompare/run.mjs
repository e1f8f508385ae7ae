#!/usr/bin/env node
// run.mjs runs one guard library's check on a labelled dev JSONL file and
// writes, per input line and in order, {"score", "flagged", "ms"} — the
// shape of `rampart check --jsonl` — so that `rampart eval --predictions`
// scores every tool the same way. It also prints items per second and
// precision, recall, F1 and FPR at the tool's own flag to stderr.
//
//   node run.mjs --tool NAME --task injection|pii|secrets|toxicity|exfil \
//                --data FILE.jsonl [--out PRED.jsonl] [--limit N]
//
// Tools (all offline, heuristics or bundled models only):
//   hai-guardrails          @presidio-dev/hai-guardrails: injectionGuard
//                           (mode "heuristic", threshold 0.7), piiGuard,
//                           secretGuard
//   hai-guardrails-pattern  the same package's injectionGuard in mode
//                           "pattern"
//   llm-guard               llm-guard: promptInjection + jailbreak guards,
//                           pii guard, toxicity + profanity guards
//   llm_guardrail           llm_guardrail: its bundled TF-IDF + logistic
//                           regression injection and jailbreak models
//   openai-guardrails       @openai/guardrails: its offline checks — pii
//                           (regexes, block: true), secretKeysCheck
//                           ("balanced") and urls (default config) for exfil;
//                           its jailbreak and prompt-injection checks call
//                           an LLM
// A tool that has no check for a task exits with status 3.

import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

function parseArgs(argv) {
  const a = { limit: 0 }
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i]
    const v = argv[i + 1]
    switch (k) {
      case '--tool': a.tool = v; i++; break
      case '--task': a.task = v; i++; break
      case '--data': a.data = v; i++; break
      case '--out': a.out = v; i++; break
      case '--limit': a.limit = Number(v); i++; break
      default: usage(`unknown argument ${k}`)
    }
  }
  if (!a.tool || !a.task || !a.data) usage('--tool, --task and --data are required')
  return a
}

function usage(msg) {
  process.stderr.write(`run.mjs: ${msg}\nusage: node run.mjs --tool NAME --task TASK --data FILE.jsonl [--out PRED.jsonl] [--limit N]\n`)
  process.exit(2)
}

// Positive rows per task, as `rampart eval` counts them by default.
const positiveLabels = {
  injection: ['injection', 'jailbreak'],
  toxicity: ['toxic'],
  secrets: ['secret'],
  exfil: ['exfil'],
}
const piiTypes = new Set(['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'IP_ADDRESS'])

function isPositive(task, row) {
  if (task === 'pii') return Array.isArray(row.entities) && row.entities.some((e) => piiTypes.has(e.type))
  return (positiveLabels[task] || []).includes(row.label)
}

// --- hai-guardrails ---------------------------------------------------------

// piscinaErrors counts the worker-pool start-up failures swallowed below.
let piscinaErrors = 0

async function loadHai() {
  // Importing the package creates its heuristic tactics, whose worker pool
  // fails to start (see below) and reports it as an unhandled 'error'
  // event. Swallow exactly that error; anything else still crashes.
  process.on('uncaughtException', (e) => {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('piscina/dist/worker.js')) {
      piscinaErrors++
      return
    }
    process.stderr.write(`run.mjs: ${e && e.stack ? e.stack : e}\n`)
    process.exit(1)
  })
  const hai = await import('@presidio-dev/hai-guardrails')
  // hai-guardrails 1.12.0 runs its heuristic tactic in a piscina worker
  // pool whose worker path was fixed at build time (a path on the
  // publisher's CI machine), so the pool cannot start under Node. Run the
  // package's own worker function in-process instead: the same scoring
  // code, keyword by keyword, as Heuristic.execute does through the pool.
  const worker = (await import(new URL('./node_modules/@presidio-dev/hai-guardrails/dist/workers/heuristic.worker.js', import.meta.url))).default
  hai.Heuristic.prototype.execute = async function (input, thresholdOverride) {
    const threshold = thresholdOverride ?? this.defaultThreshold
    let best = null
    for (const keyword of this.keywords) {
      const r = await worker({ input, keyword, threshold })
      if (best === null || r.score > best.score) best = r
    }
    return { score: best.score, additionalFields: best.additionalFields }
  }
  return hai
}

async function haiCheck(task, mode) {
  const hai = await loadHai()
  let guard
  let role = 'user'
  switch (task) {
    case 'injection':
      guard = hai.injectionGuard({ roles: ['user'] }, { mode, threshold: 0.7 })
      break
    case 'pii':
      if (mode !== 'heuristic') return null
      guard = hai.piiGuard({ selection: hai.SelectionType.All, mode: 'block' })
      break
    case 'secrets':
      if (mode !== 'heuristic') return null
      guard = hai.secretGuard({ selection: hai.SelectionType.All, mode: 'block' })
      break
    case 'exfil':
      return null
    default:
      return null // toxicGuard and the other content guards need an LLM
  }
  const engine = new hai.GuardrailsEngine({ guards: [guard], logLevel: 'silent' })
  return async (text) => {
    const r = await engine.run([{ role, content: text }])
    const m = r.messagesWithGuardResult[0].messages[0]
    const changed = m.modifiedMessage && m.modifiedMessage.content !== text
    const flagged = !m.passed || Boolean(changed)
    const af = m.additionalFields || {}
    let score = flagged ? 1 : 0
    if (typeof af.score === 'number') score = af.score
    else if (typeof af.bestScore === 'number') score = af.bestScore
    return { score: Math.max(0, Math.min(1, score)), flagged }
  }
}

// --- llm-guard --------------------------------------------------------------

async function llmGuardCheck(task) {
  const { LLMGuard } = (await import('llm-guard')).default ?? (await import('llm-guard'))
  let cfg
  switch (task) {
    case 'injection': cfg = { promptInjection: true, jailbreak: true }; break
    case 'pii': cfg = { pii: true }; break
    case 'toxicity': cfg = { toxicity: true, profanity: true }; break
    default: return null // no secrets or link check
  }
  const all = { pii: false, jailbreak: false, profanity: false, promptInjection: false, relevance: false, toxicity: false }
  const g = new LLMGuard({ ...all, ...cfg })
  return async (text) => {
    const r = await g.validate(text)
    // llm-guard's score is a safety score (1 = safe).
    return { score: Math.max(0, Math.min(1, 1 - r.score)), flagged: !r.isValid }
  }
}

// --- llm_guardrail ----------------------------------------------------------

async function llmGuardrailCheck(task) {
  if (task !== 'injection') return null
  const m = await import('llm_guardrail')
  return async (text) => {
    const [inj, jb] = await Promise.all([m.checkInjection(text), m.checkJailbreak(text)])
    return { score: Math.max(inj.confidence, jb.confidence), flagged: inj.detected || jb.detected }
  }
}

// --- @openai/guardrails -------------------------------------------------------

async function openaiCheck(task) {
  const g = await import('@openai/guardrails')
  let fn
  switch (task) {
    case 'pii': {
      const cfg = g.PIIConfig.parse({ block: true })
      fn = (text) => g.pii({}, text, cfg)
      break
    }
    case 'secrets': {
      const cfg = g.SecretKeysConfig.parse({})
      fn = (text) => g.secretKeysCheck({}, text, cfg)
      break
    }
    case 'exfil': {
      const cfg = g.UrlsConfig.parse({})
      fn = (text) => g.urls({}, text, cfg)
      break
    }
    default:
      return null // jailbreak, prompt injection and moderation need OpenAI's API
  }
  return async (text) => {
    const r = await fn(text)
    const flagged = Boolean(r.tripwireTriggered)
    return { score: flagged ? 1 : 0, flagged }
  }
}

async function makeCheck(tool, task) {
  switch (tool) {
    case 'openai-guardrails': return openaiCheck(task)
    case 'hai-guardrails': return haiCheck(task, 'heuristic')
    case 'hai-guardrails-pattern': return haiCheck(task, 'pattern')
    case 'llm-guard': return llmGuardCheck(task)
    case 'llm_guardrail': return llmGuardrailCheck(task)
  }
  usage(`unknown tool ${tool}`)
}

function figures(c) {
  const p = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 0
  const r = c.tp + c.fn ? c.tp / (c.tp + c.fn) : 0
  const f1 = p + r ? (2 * p * r) / (p + r) : 0
  const fpr = c.fp + c.tn ? c.fp / (c.fp + c.tn) : 0
  return { precision: p, recall: r, f1, fpr }
}

async function main() {
  const a = parseArgs(process.argv)
  const check = await makeCheck(a.tool, a.task)
  if (!check) {
    process.stderr.write(`run.mjs: ${a.tool} has no ${a.task} check that runs offline\n`)
    process.exit(3)
  }
  let rows = readFileSync(a.data, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
  if (a.limit > 0) rows = rows.slice(0, a.limit)
  // One warm-up call (module loading, JIT) outside the timings.
  if (rows.length > 0) await check(rows[0].text)
  const out = []
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 }
  const t0 = performance.now()
  for (const row of rows) {
    const s = performance.now()
    const r = await check(String(row.text ?? ''))
    const ms = performance.now() - s
    out.push(JSON.stringify({ score: r.score, flagged: r.flagged, ms: Number(ms.toFixed(4)) }))
    const pos = isPositive(a.task, row)
    if (pos && r.flagged) c.tp++
    else if (pos) c.fn++
    else if (r.flagged) c.fp++
    else c.tn++
  }
  const secs = (performance.now() - t0) / 1000
  const text = out.join('\n') + (out.length ? '\n' : '')
  if (a.out) writeFileSync(a.out, text)
  else process.stdout.write(text)
  const f = figures(c)
  const ips = rows.length / secs
  process.stderr.write(
    `${a.tool} ${a.task}: ${rows.length} items, ${ips.toFixed(1)} items/s; ` +
      `precision ${f.precision.toFixed(3)} recall ${f.recall.toFixed(3)} F1 ${f.f1.toFixed(3)} FPR ${f.fpr.toFixed(3)} ` +
      `(tp ${c.tp} fp ${c.fp} fn ${c.fn} tn ${c.tn})\n`,
  )
  if (piscinaErrors > 0) process.stderr.write(`(hai-guardrails worker pool start-up errors swallowed: ${piscinaErrors})\n`)
  process.stderr.write(JSON.stringify({ tool: a.tool, task: a.task, items: rows.length, items_per_second: ips, ...f, ...c }) + '\n')
  process.exit(0)
}

main().catch((e) => {
  process.stderr.write(`run.mjs: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
