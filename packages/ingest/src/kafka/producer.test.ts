import { describe, expect, it } from 'vitest';
import { IngestError } from '../errors.ts';
import { placements } from './producer.ts';

describe('placements', () => {
  it("gives each record its partition's base offset plus its rank within the partition", () => {
    const messages = [
      { value: 'a', partition: 2 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 2 },
      { value: 'd', partition: 2 },
      { value: 'e', partition: 0 },
    ];
    const metadata = [
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '9007199254740993' },
      { topicName: 't', partition: 2, errorCode: 0, baseOffset: '40' },
    ];
    expect(placements(messages, metadata, 't')).toEqual([
      { partition: 2, offset: '40' },
      { partition: 0, offset: '9007199254740993' },
      { partition: 2, offset: '41' },
      { partition: 2, offset: '42' },
      { partition: 0, offset: '9007199254740994' },
    ]);
  });

  it('refuses to place a record whose partition Kafka did not report', () => {
    const metadata = [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '1' }];
    expect(() => placements([{ value: 'a', partition: 1 }], metadata, 't')).toThrow(IngestError);
    expect(() => placements([{ value: 'a' }], metadata, 't')).toThrow(IngestError);
  });
});
