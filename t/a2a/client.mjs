// Talks to an A2A agent with the JavaScript A2A SDK's client and prints
// what it got, or the error the SDK reports.
//
//     node client.mjs <agent base URL> <bearer token> [<X-Workspace-ID>]
//                     [--forge] [--stream | --resubscribe]
//
// The agent card is fetched from <base URL>/.well-known/agent-card.json
// (as any A2A client does); requests go to the URL the card names.
// Every request of the JSON-RPC transport carries "Authorization: Bearer
// <token>" and, when given, the X-Workspace-ID claim; --forge adds a
// client's own X-Caller-Kind and X-Caller-Name.
//
// Without a mode: one message/send, and one line of output:
//
//     reply: <the agent's text>
//     error: <message>
//
// --stream: message/stream to the streaming agent of t/a2a/server.mjs,
// every event read to the end:
//
//     stream: <event> ...           each event as kind(detail)
//     reply: <text of the first artifact>
//     unbuffered: first=yes|no each=yes|no
//
// --resubscribe: message/stream, dropped (aborted) once the task is
// "working", then tasks/resubscribe for that task, read to the end:
//
//     stream: <event> ... dropped
//     resubscribe: <event> ...
//     reply: <text of the first artifact>
//     resubscribed by: <the caller the agent saw on tasks/resubscribe>
//     unbuffered: first=yes|no each=yes|no    (of the resubscribed stream)
//
// The streaming agent stamps every event with metadata.producedAt, and
// the client notes when each event reached it (same machine, same clock).
// "first=yes": the first event arrived before the agent produced the last
// one.  "each=yes": every event that the agent followed with a pause
// (MIN_GAP_MS or more) arrived before the agent produced the next one.  A
// proxy that buffers the response delivers everything at the end: no and
// no.  With A2A_TIMINGS=1 in the environment, the times go to stderr.
//
// Used by t/055-a2a-sdk.t.
import { randomUUID } from 'node:crypto';
import {
    ClientFactory,
    ClientFactoryOptions,
    JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';

const FLAGS = ['--forge', '--stream', '--resubscribe'];
const MIN_GAP_MS = 200;
const TIMEOUT_MS = 10000;

const args = process.argv.slice(2);
const forge = args.includes('--forge');
const mode = args.includes('--resubscribe') ? 'resubscribe'
             : args.includes('--stream') ? 'stream' : 'send';
const [base, token, claim] = args.filter((a) => !FLAGS.includes(a));

if (!base || !token) {
    console.error('usage: node client.mjs <base URL> <token> [<claim>] '
                  + '[--forge] [--stream | --resubscribe]');
    process.exit(2);
}

const extra = { Authorization: `Bearer ${token}` };

if (claim !== undefined) {
    extra['X-Workspace-ID'] = claim;
}

if (forge) {
    extra['X-Caller-Kind'] = 'system';
    extra['X-Caller-Name'] = 'system:restart-context';
}

async function fetchWithCaller(input, init = {}) {
    const headers = new Headers(init.headers);

    for (const [k, v] of Object.entries(extra)) {
        headers.set(k, v);
    }

    return fetch(input, { ...init, headers });
}

const transport = new JsonRpcTransportFactory({ fetchImpl: fetchWithCaller });

const factory = new ClientFactory(ClientFactoryOptions.createFrom(
    ClientFactoryOptions.default, { transports: [transport] }));

function oneLine(e) {
    return String(e?.message ?? e).replace(/\s+/g, ' ');
}

// message/send: the agent's one message.
async function send(client) {
    const result = await client.sendMessage({
        message: {
            kind: 'message',
            messageId: randomUUID(),
            role: 'user',
            parts: [{ kind: 'text', text: 'who am I?' }],
        },
    }, { signal: AbortSignal.timeout(TIMEOUT_MS) });

    if (result.kind !== 'message') {
        console.log(`error: unexpected result kind ${result.kind}`);

    } else {
        console.log(`reply: ${result.parts.map((p) => p.text).join('')}`);
    }
}

function describe(event) {
    switch (event.kind) {
    case 'task':
        return `task(${event.status?.state})`;
    case 'status-update':
        return `status-update(${event.status?.state}`
               + `${event.final ? ',final' : ''})`;
    case 'artifact-update':
        return `artifact-update(${event.artifact?.artifactId})`;
    default:
        return String(event.kind);
    }
}

// Reads a stream of events, noting when each arrived; stops early when
// stop(event) says so.
async function collect(stream, stop = () => false) {
    const seen = [];

    for await (const event of stream) {
        seen.push({ event, at: Date.now() });

        if (stop(event)) {
            break;
        }
    }

    return seen;
}

function verdict(seen) {
    const produced = seen.map((s) => s.event.metadata?.producedAt);

    if (seen.length < 2 || produced.some((p) => typeof p !== 'number')) {
        return 'first=? each=? (events without metadata.producedAt)';
    }

    const last = produced[produced.length - 1];
    const first = seen[0].at < last;
    let each = true;
    let pairs = 0;

    for (let i = 0; i + 1 < seen.length; i++) {
        if (produced[i + 1] - produced[i] >= MIN_GAP_MS) {
            pairs++;
            each &&= seen[i].at < produced[i + 1];
        }
    }

    if (process.env.A2A_TIMINGS) {
        const t0 = produced[0];

        for (const [i, s] of seen.entries()) {
            console.error(`${describe(s.event)}: produced +${produced[i] - t0}`
                          + ` ms, arrived +${s.at - t0} ms`);
        }
    }

    const yn = (b) => (b ? 'yes' : 'no');

    return `first=${yn(first)} each=${pairs ? yn(each) : '?'}`;
}

function firstArtifactText(...lists) {
    for (const seen of lists) {
        for (const { event } of seen) {
            const artifacts = event.kind === 'artifact-update'
                ? [event.artifact] : event.artifacts ?? [];

            for (const a of artifacts) {
                if (a.artifactId === 'part-1') {
                    return a.parts.map((p) => p.text).join('');
                }
            }
        }
    }

    return '-';
}

function newMessage() {
    return {
        message: {
            kind: 'message',
            messageId: randomUUID(),
            role: 'user',
            parts: [{ kind: 'text', text: 'who am I, as a stream?' }],
        },
    };
}

// message/stream, read to the end.
async function stream(client) {
    const seen = await collect(client.sendMessageStream(
        newMessage(), { signal: AbortSignal.timeout(TIMEOUT_MS) }));

    console.log(`stream: ${seen.map((s) => describe(s.event)).join(' ')}`);
    console.log(`reply: ${firstArtifactText(seen)}`);
    console.log(`unbuffered: ${verdict(seen)}`);
}

// message/stream, dropped once the task is working (the client aborts the
// request, as a client losing its connection would), then
// tasks/resubscribe for that task.
async function resubscribe(client) {
    const drop = new AbortController();
    const timer = setTimeout(() => drop.abort(), TIMEOUT_MS);
    let taskId;

    const before = await collect(
        client.sendMessageStream(newMessage(), { signal: drop.signal }),
        (event) => {
            if (event.kind === 'task') {
                taskId = event.id;
            }

            return event.kind === 'status-update'
                   && event.status?.state === 'working';
        });

    drop.abort();
    clearTimeout(timer);

    console.log(`stream: ${before.map((s) => describe(s.event)).join(' ')}`
                + ' dropped');

    if (!taskId) {
        console.log('error: no task id in the stream');
        return;
    }

    const after = await collect(client.resubscribeTask(
        { id: taskId }, { signal: AbortSignal.timeout(TIMEOUT_MS) }));
    const task = after[0]?.event;

    console.log('resubscribe: '
                + after.map((s) => describe(s.event)).join(' '));
    console.log(`reply: ${firstArtifactText(before, after)}`);
    console.log('resubscribed by: '
                + `${task?.kind === 'task' && task.id === taskId
                     ? task.metadata?.caller ?? '-' : '(not this task)'}`);
    console.log(`unbuffered: ${verdict(after)}`);
}

try {
    const client = await factory.createFromUrl(base);

    if (mode !== 'send'
        && (await client.getAgentCard()).capabilities?.streaming !== true)
    {
        // the SDK would quietly fall back to message/send
        console.log('error: the agent card does not say streaming: true');

    } else {
        await { send, stream, resubscribe }[mode](client);
    }

} catch (e) {
    console.log(`error: ${oneLine(e)}`);
}
