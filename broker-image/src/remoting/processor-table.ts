// Processors by request code, with the two fallbacks every remoting peer needs: an unknown code
// is answered REQUEST_CODE_NOT_SUPPORTED, and a processor that throws is answered SYSTEM_ERROR
// with the error message as remark (protocol.md §1.4.2).

import {
  createResponse,
  HeaderFieldError,
  type RemotingCommand,
  ResponseCode,
  requestCodeName,
} from '../protocol/index.js';
import type { Processor, RemotingLogger, RequestContext } from './types.js';

export class ProcessorTable {
  private readonly processors = new Map<number, Processor>();
  private defaultProcessor: Processor | null = null;

  constructor(private readonly logger: RemotingLogger) {}

  register(code: number, processor: Processor): void {
    this.processors.set(code, processor);
  }

  setDefault(processor: Processor | null): void {
    this.defaultProcessor = processor;
  }

  /** Never rejects: every failure becomes a response (or nothing, for oneway requests). */
  readonly dispatch = async (
    request: RemotingCommand,
    context: RequestContext,
  ): Promise<RemotingCommand | null> => {
    const processor = this.processors.get(request.code) ?? this.defaultProcessor;
    if (processor === null) {
      return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
        remark: ` request type ${request.code} not supported`,
      });
    }
    try {
      return await processor(request, context);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof HeaderFieldError)) {
        this.logger.warn('processor failed', {
          code: requestCodeName(request.code),
          channel: context.channelId,
          remote: context.remoteAddress,
          error: message,
        });
      }
      return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: message });
    }
  };
}
