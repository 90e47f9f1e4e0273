import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkCompose } from './compose-check.ts';
import { kafkaVersion } from './kafka/broker.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const read = (name: string): string => readFileSync(`${root}${name}`, 'utf8');

type Doc = { services: Record<string, Record<string, unknown>> };

function problemsWith(edit: (doc: Doc) => void): string[] {
  const doc = parse(read('docker-compose.yml'), { merge: true }) as Doc;
  edit(doc);
  return checkCompose({
    composeText: stringify(doc),
    dockerfileText: read('Dockerfile'),
    dockerignoreText: read('.dockerignore'),
    kafkaVersion: kafkaVersion(),
    pnpmVersion: '10.34.9',
    exists: () => true,
  }).problems;
}

const env = (doc: Doc, name: string): Record<string, unknown> =>
  doc.services[name]?.environment as Record<string, unknown>;

describe('compose:check on the cluster profile', () => {
  it('passes the repository file', () => {
    expect(problemsWith(() => {})).toEqual([]);
  });

  it.each<[string, (doc: Doc) => void, RegExp]>([
    [
      'a node missing',
      (doc) => {
        delete doc.services['kafka-3'];
      },
      /expected services kafka-1, kafka-2 and kafka-3/,
    ],
    [
      'min.insync.replicas 1',
      (doc) => {
        env(doc, 'kafka-2').KAFKA_MIN_INSYNC_REPLICAS = 1;
      },
      /services\.kafka-2: KAFKA_MIN_INSYNC_REPLICAS expected 2, got "1"/,
    ],
    [
      'offsets topic not replicated',
      (doc) => {
        env(doc, 'kafka-1').KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR = 1;
      },
      /KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR expected 3/,
    ],
    [
      'a node outside the quorum',
      (doc) => {
        env(doc, 'kafka-3').KAFKA_CONTROLLER_QUORUM_VOTERS = '3@kafka-3:9093';
      },
      /services\.kafka-3: KAFKA_CONTROLLER_QUORUM_VOTERS expected "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"/,
    ],
    [
      'two cluster ids',
      (doc) => {
        env(doc, 'kafka-2').CLUSTER_ID = 'another-id';
      },
      /every node needs the same CLUSTER_ID/,
    ],
    [
      'another Kafka version',
      (doc) => {
        (doc.services['kafka-1'] as Record<string, unknown>).image = 'apache/kafka:3.9.0';
      },
      /services\.kafka-1\.image: expected "apache\/kafka:/,
    ],
  ])('fails with %s', (_name, edit, expected) => {
    const problems = problemsWith(edit);
    expect(problems.join('\n')).toMatch(expected);
  });
});
