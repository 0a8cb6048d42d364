// Sends one A2A message/send with the JavaScript A2A SDK's client and
// prints the agent's answer, or the error the SDK reports.
//
//     node client.mjs <agent base URL> <bearer token> [<X-Workspace-ID>]
//                     [--forge]
//
// The agent card is fetched from <base URL>/.well-known/agent-card.json
// (as any A2A client does); the message goes to the URL the card names.
// Every request of the JSON-RPC transport carries "Authorization: Bearer
// <token>" and, when given, the X-Workspace-ID claim; --forge adds a
// client's own X-Caller-Kind and X-Caller-Name.  Output, one line:
//
//     reply: <the agent's text>
//     error: <message>
//
// Used by t/055-a2a-sdk.t.

import { randomUUID } from 'node:crypto';
import {
    ClientFactory,
    ClientFactoryOptions,
    JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';

const args = process.argv.slice(2);
const forge = args.includes('--forge');
const [base, token, claim] = args.filter((a) => a !== '--forge');

if (!base || !token) {
    console.error('usage: node client.mjs <base URL> <token> [<claim>] '
                  + '[--forge]');
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

try {
    const client = await factory.createFromUrl(base);

    const result = await client.sendMessage({
        message: {
            kind: 'message',
            messageId: randomUUID(),
            role: 'user',
            parts: [{ kind: 'text', text: 'who am I?' }],
        },
    }, { signal: AbortSignal.timeout(10000) });

    if (result.kind !== 'message') {
        console.log(`error: unexpected result kind ${result.kind}`);

    } else {
        console.log(`reply: ${result.parts.map((p) => p.text).join('')}`);
    }

} catch (e) {
    console.log(`error: ${String(e.message ?? e).replace(/\s+/g, ' ')}`);
}
