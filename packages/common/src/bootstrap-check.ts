import { connect } from 'node:net';
import type { Logger } from './logger.ts';

export interface UnreachableBroker {
  broker: string;
  error: string;
}

/**
 * Opens a TCP connection to every bootstrap address and returns those that did not answer
 * within `timeoutMs`. kafkajs picks one bootstrap address at random and moves on to another
 * when it fails, so a dead or mistyped one slows nothing down but would otherwise go unnoticed.
 */
export async function unreachableBrokers(
  brokers: readonly string[],
  timeoutMs: number,
): Promise<UnreachableBroker[]> {
  const results = await Promise.all(
    brokers.map(async (broker) => {
      const error = await tryConnect(broker, timeoutMs);
      return error === undefined ? [] : [{ broker, error }];
    }),
  );
  return results.flat();
}

/** Logs a warning naming each bootstrap address that cannot be reached, when there are several. */
export async function warnAboutUnreachableBrokers(
  brokers: readonly string[],
  logger: Logger,
  timeoutMs = 3000,
): Promise<void> {
  if (brokers.length < 2) return;
  const unreachable = await unreachableBrokers(brokers, timeoutMs);
  for (const { broker, error } of unreachable) {
    logger.warn(
      { broker, error, usable: brokers.length - unreachable.length },
      unreachable.length < brokers.length
        ? `bootstrap broker ${broker} is unreachable (${error}); using the others`
        : `bootstrap broker ${broker} is unreachable (${error})`,
    );
  }
}

function tryConnect(broker: string, timeoutMs: number): Promise<string | undefined> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon);
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs);
    const done = (error: string | undefined): void => {
      socket.destroy();
      resolve(error);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
