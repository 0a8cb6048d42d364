// Two A2A agents built with the JavaScript A2A SDK, whose only skill is to
// say which caller they were called as: the X-Workspace-ID, X-Caller-Kind
// and X-Caller-Name request headers they received, and how many lines of
// each (any case, "-" or "_").
//
//     node server.mjs <port> <agent base URL as clients see it>
//
// Listens on 127.0.0.1:<port>.  Prints "listening <port>" once ready.
// Used by t/055-a2a-sdk.t, behind nginx and wsgate.
//
// The echo agent (capabilities.streaming: false) answers message/send
// with one message.  Its card is served at /.well-known/agent-card.json
// and names <base URL>/a2a as the JSON-RPC endpoint, served at /a2a.
//
// The streaming agent (capabilities.streaming: true) answers message/stream
// with a task whose events it spaces out in time (see StreamingExecutor);
// every event carries metadata.seq and metadata.producedAt (Date.now()
// when the agent published it), so that a client on the same machine can
// tell whether the events reached it one by one or all at the end.  Its
// card is served at /stream/.well-known/agent-card.json and names
// <origin of base URL><X-Forwarded-Prefix>a2a as the endpoint (the proxy
// in front says under which path it serves the agent; without that
// header, the agent's own address); the JSON-RPC endpoint is /stream/a2a.
// tasks/resubscribe answers with the task as stored, its metadata.caller
// saying who resubscribed, then the events still to come.

import { randomUUID } from 'node:crypto';
import express from 'express';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';

const [port, base] = process.argv.slice(2);

if (!port || !base) {
    console.error('usage: node server.mjs <port> <agent base URL>');
    process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const card = {
    name: 'wsgate caller echo',
    description: 'Replies with the caller headers it received.',
    protocolVersion: '0.3.0',
    version: '1.0.0',
    url: new URL('a2a', base.endsWith('/') ? base : `${base}/`).href,
    preferredTransport: 'JSONRPC',
    capabilities: { streaming: false, pushNotifications: false },
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: [{
        id: 'whoami',
        name: 'Who am I',
        description: 'Says which caller the request came from',
        tags: ['test'],
    }],
};

const streamCard = {
    ...card,
    name: 'wsgate streaming caller echo',
    description: 'Streams a task whose first artifact names the caller.',
    url: `http://127.0.0.1:${port}/stream/a2a`,
    capabilities: { streaming: true, pushNotifications: false },
    skills: [{
        id: 'whoami-stream',
        name: 'Who am I, streamed',
        description: 'Says which caller the request came from, as a stream',
        tags: ['test'],
    }],
};

const names = {
    id: 'x-workspace-id',
    kind: 'x-caller-kind',
    name: 'x-caller-name',
};

// The SDK hands whatever the user builder returns to the executor as
// requestContext.context.user: the caller as the HTTP request named it.
async function callerFromRequest(req) {
    const caller = { isAuthenticated: true, userName: '', lines: {} };

    for (const [key, header] of Object.entries(names)) {
        caller[key] = req.get(header);
        caller.lines[key] = 0;
    }

    for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const header = req.rawHeaders[i].toLowerCase().replaceAll('_', '-');

        for (const [key, name] of Object.entries(names)) {
            if (header === name) {
                caller.lines[key]++;
            }
        }
    }

    caller.userName = caller.name ?? caller.id ?? '';

    return caller;
}

function callerText(c = {}) {
    return `id=${c.id ?? '-'} kind=${c.kind ?? '-'}`
           + ` name=${c.name ?? '-'}`
           + ` lines=${c.lines?.id}/${c.lines?.kind}/${c.lines?.name}`;
}

class CallerEchoExecutor {
    async execute(requestContext, eventBus) {
        const text = callerText(requestContext.context?.user);

        eventBus.publish({
            kind: 'message',
            messageId: randomUUID(),
            role: 'agent',
            parts: [{ kind: 'text', text }],
            contextId: requestContext.contextId,
        });
        eventBus.finished();
    }

    async cancelTask() {
    }
}

// The pauses between the events of a streamed task: task (submitted) and
// status-update (working) at once, then <first> ms, artifact-update
// part-1, and <next> ms before each of part-2, part-3 and status-update
// (completed, final).  The first pause is the longest: a client that drops
// the stream once the task is working has that long to resubscribe before
// it would miss an event (the suite saw up to 300 ms for that, with the
// machine overloaded).
const STREAM_GAPS_MS = { first: 1000, next: 300 };

class StreamingExecutor {
    async execute(requestContext, eventBus) {
        const { taskId, contextId, userMessage, task } = requestContext;
        let seq = 0;
        const stamp = () => ({ seq: ++seq, producedAt: Date.now() });
        const status = (state, final) => ({
            kind: 'status-update',
            taskId,
            contextId,
            status: { state, timestamp: new Date().toISOString() },
            final,
            metadata: stamp(),
        });
        const artifact = (n, text) => ({
            kind: 'artifact-update',
            taskId,
            contextId,
            artifact: {
                artifactId: `part-${n}`,
                parts: [{ kind: 'text', text }],
            },
            lastChunk: true,
            metadata: stamp(),
        });

        if (!task) {
            eventBus.publish({
                kind: 'task',
                id: taskId,
                contextId,
                status: { state: 'submitted',
                          timestamp: new Date().toISOString() },
                history: [userMessage],
                metadata: stamp(),
            });
        }

        eventBus.publish(status('working', false));

        await sleep(STREAM_GAPS_MS.first);
        eventBus.publish(artifact(1,
                                  callerText(requestContext.context?.user)));

        for (const n of [2, 3]) {
            await sleep(STREAM_GAPS_MS.next);
            eventBus.publish(artifact(n, `part ${n}`));
        }

        await sleep(STREAM_GAPS_MS.next);
        eventBus.publish(status('completed', true));
        eventBus.finished();
    }

    async cancelTask() {
    }
}

// tasks/resubscribe as the SDK does it, the task it answers first marked
// with the caller that resubscribed (so the test sees the caller headers
// of that request too) and with the time it was sent.
class StreamingRequestHandler extends DefaultRequestHandler {
    async *resubscribe(params, context) {
        for await (const event of super.resubscribe(params, context)) {
            if (event.kind === 'task') {
                yield { ...event,
                        metadata: { ...event.metadata,
                                    producedAt: Date.now(),
                                    caller: callerText(context?.user) } };
            } else {
                yield event;
            }
        }
    }
}

const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(),
                                                 new CallerEchoExecutor());

const streamHandler = new StreamingRequestHandler(streamCard,
                                                  new InMemoryTaskStore(),
                                                  new StreamingExecutor());

const app = express();

app.use(`/${AGENT_CARD_PATH}`,
        agentCardHandler({ agentCardProvider: requestHandler }));
app.use('/a2a', jsonRpcHandler({ requestHandler,
                                 userBuilder: callerFromRequest }));

app.get(`/stream/${AGENT_CARD_PATH}`, (req, res) => {
    const prefix = req.get('x-forwarded-prefix');
    const url = prefix
        ? new URL(`${prefix.replace(/\/*$/, '')}/a2a`, base).href
        : streamCard.url;

    res.json({ ...streamCard, url });
});
app.use('/stream/a2a', jsonRpcHandler({ requestHandler: streamHandler,
                                        userBuilder: callerFromRequest }));

const server = app.listen(Number(port), '127.0.0.1', () => {
    console.log(`listening ${port}`);
});

server.on('error', (err) => {
    console.error(`server.mjs: ${err.message}`);
    process.exit(1);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => server.close(() => process.exit(0)));
}
