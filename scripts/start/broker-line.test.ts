import { describe, expect, it } from 'vitest';
import { formatBrokerLine } from './broker-line.ts';

describe('formatBrokerLine', () => {
  it('shows a Kafka log line with its time, level and message, without the logger name', () => {
    expect(
      formatBrokerLine(
        '[2026-12-01 00:39:47,899] INFO [KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)',
      ),
    ).toBe('00:39:47.899 INFO  [KafkaRaftServer nodeId=1] Kafka Server started');
  });

  it('keeps a real warning a warning', () => {
    expect(
      formatBrokerLine('[2026-12-01 00:39:47,899] WARN Disk is almost full (kafka.log.LogManager)'),
    ).toBe('00:39:47.899 WARN  Disk is almost full');
  });

  it("shows the first start's bootstrap notice, which Kafka logs as WARN, as INFO", () => {
    const line = formatBrokerLine(
      "[2026-12-01 00:39:42,125] WARN [QuorumController id=1] Performing controller activation. The metadata log appears to be empty. Appending 4 bootstrap record(s) in metadata transaction at metadata.version 4.1-IV1 from bootstrap source 'x'. (org.apache.kafka.controller.QuorumController)",
    );
    expect(line).toMatch(/^00:39:42\.125 INFO {2}\[QuorumController id=1\] Performing controller/);
  });

  it('passes other lines through', () => {
    expect(formatBrokerLine('\tat kafka.Kafka.main(Kafka.scala)')).toBe(
      '\tat kafka.Kafka.main(Kafka.scala)',
    );
  });
});
