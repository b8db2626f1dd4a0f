// Child process for bench/remoting.ts: a RemotingServer answering SEND_MESSAGE_V2 with a
// send-response-shaped command (header only), so only the remoting layer is measured.

import { createResponse, RequestCode, ResponseCode } from '../broker-image/src/protocol/index.js';
import { RemotingServer } from '../broker-image/src/remoting/index.js';

const server = new RemotingServer({ name: 'bench' });
let offset = 0;
server.registerProcessor(RequestCode.SEND_MESSAGE_V2, async (request) =>
  createResponse(request, ResponseCode.SUCCESS, {
    extFields: {
      msgId: '7F00000100002A9F0000000000000000',
      queueId: request.extFields.e ?? '0',
      queueOffset: String(offset++),
      MSG_REGION: 'DefaultRegion',
      TRACE_ON: 'true',
    },
  }),
);
const port = await server.listen(0, '127.0.0.1');
process.stdout.write(`PORT ${port}\n`);
// Exit with the parent: it holds our stdin open.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => {
  server.close().then(() => process.exit(0));
});
