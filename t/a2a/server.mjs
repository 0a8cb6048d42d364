// An A2A agent built with the JavaScript A2A SDK whose only skill is to
// say which caller it was called as: the X-Workspace-ID, X-Caller-Kind
// and X-Caller-Name request headers it received, and how many lines of
// each (any case, "-" or "_").
//
//     node server.mjs <port> <agent base URL as clients see it>
//
// Listens on 127.0.0.1:<port>; the agent card is served at
// /.well-known/agent-card.json and names <base URL>/a2a as the JSON-RPC
// endpoint.  Prints "listening <port>" once ready.  Used by
// t/055-a2a-sdk.t, behind nginx and wsgate.

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

class CallerEchoExecutor {
    async execute(requestContext, eventBus) {
        const c = requestContext.context?.user ?? {};
        const text = `id=${c.id ?? '-'} kind=${c.kind ?? '-'}`
                     + ` name=${c.name ?? '-'}`
                     + ` lines=${c.lines?.id}/${c.lines?.kind}`
                     + `/${c.lines?.name}`;

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

const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(),
                                                 new CallerEchoExecutor());

const app = express();

app.use(`/${AGENT_CARD_PATH}`,
        agentCardHandler({ agentCardProvider: requestHandler }));
app.use('/a2a', jsonRpcHandler({ requestHandler,
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
