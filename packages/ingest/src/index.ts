export {
  ERROR_STATUS,
  type ErrorBody,
  IngestError,
  type IngestErrorCode,
  RETRY_AFTER_SECONDS,
} from './errors.ts';
export { type AppDeps, createApp } from './http/app.ts';
export { readBody } from './http/body-reader.ts';
export { isJsonContentType } from './http/content-type.ts';
export { createHttpServer, MAX_HEADER_BYTES } from './http/http-server.ts';
export { MAX_JSON_DEPTH, validateJson } from './http/json-validation.ts';
export {
  createIngestService,
  type IngestService,
  type IngestServiceDeps,
} from './ingest-service.ts';
export { type BatchPartitioner, createBatchPartitioner } from './kafka/partitioner.ts';
export { createProduceBatcher, type ProduceBatcher } from './kafka/produce-batcher.ts';
export type { Placement, ProducePort } from './kafka/produce-port.ts';
export { createKafkaProducer, type KafkaProducer } from './kafka/producer.ts';
export { createIngestKafkaClient } from './kafka-client.ts';
export { createIngestMetrics, type IngestMetrics } from './metrics.ts';
export { createReadiness, type Readiness, type ReadinessStatus } from './readiness.ts';
