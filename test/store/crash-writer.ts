// Child process for the crash test: appends under load until it is killed. Each acknowledged
// message is written to the ack log only after the store answered PUT_OK (in SYNC_FLUSH: after
// fdatasync covered it). Run with `node --import tsx crash-writer.ts`; settings come from env.

import { openSync, writeSync } from 'node:fs';
import { createLogger } from '../../broker-image/src/common/index.js';
import {
  type MessageToStore,
  openMessageStore,
  parseOffsetMessageId,
} from '../../broker-image/src/store/index.js';
import { CRASH_STORE_CONFIG, TOPICS } from './crash-config.js';

const root = process.env.STORE_DIR!;
const ackLog = process.env.ACK_LOG!;
const flushDiskType = process.env.FLUSH as 'SYNC_FLUSH' | 'ASYNC_FLUSH';
const round = Number(process.env.ROUND);
const maxMessages = Number(process.env.MAX_MESSAGES ?? 8000);

const store = await openMessageStore(
  { ...CRASH_STORE_CONFIG, storePathRootDir: root, flushDiskType },
  { logger: createLogger(`writer-${round}`, { level: 'warn' }), indexRunEntries: 1024 },
);
const r = store.recovery!;
process.stderr.write(
  `recovery mode=${r.mode} scanned=${r.scannedBytes} cut=${r.cutBytes} end=${r.endOffset}\n`,
);

const ackFd = openSync(ackLog, 'a');
let pendingLines = '';
let flushScheduled = false;
function ack(line: string): void {
  pendingLines += line;
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      const text = pendingLines;
      pendingLines = '';
      writeSync(ackFd, text);
    });
  }
}

let seq = 0;
function next(topic: string, queueId: number): MessageToStore {
  const id = `R${round}-${seq++}`;
  const size = 20 + Math.floor(Math.random() * 600);
  return {
    topic,
    queueId,
    flag: 0,
    body: Buffer.from(`${id}|`.padEnd(size, String.fromCharCode(97 + (seq % 26)))),
    properties: new Map([
      ['UNIQ_KEY', id],
      ['KEYS', `k-${id}`],
      ['TAGS', seq % 3 === 0 ? 'TagA' : 'TagB'],
    ]),
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: { address: '127.0.0.1', port: 40000 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
  };
}

async function worker(): Promise<void> {
  while (seq < maxMessages) {
    const topic = TOPICS[Math.floor(Math.random() * TOPICS.length)];
    const queueId = Math.floor(Math.random() * 4);
    const batch =
      Math.random() < 0.1
        ? [next(topic, queueId), next(topic, queueId), next(topic, queueId)]
        : [next(topic, queueId)];
    const result = batch.length === 1 ? await store.putMessage(batch[0]) : await store.putMessages(batch);
    if (result.status !== 'PUT_OK') continue;
    batch.forEach((m, i) => {
      const phy = parseOffsetMessageId(result.msgIds[i]).physicalOffset;
      ack(`${m.properties.get('UNIQ_KEY')} ${topic} ${queueId} ${result.queueOffset + BigInt(i)} ${phy}\n`);
    });
  }
}

process.stdout.write('READY\n');
await Promise.all(Array.from({ length: 32 }, worker));
process.stdout.write('DONE\n');
// Stay alive (unclean) until killed: the test decides when the process dies.
setInterval(() => undefined, 1000);
