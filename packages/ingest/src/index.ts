export { type AppDeps, createApp } from './app.ts';
export { readBody } from './body-reader.ts';
export { isJsonContentType } from './content-type.ts';
export {
  ERROR_STATUS,
  type ErrorBody,
  IngestError,
  type IngestErrorCode,
  RETRY_AFTER_SECONDS,
} from './errors.ts';
export { createHttpServer, MAX_HEADER_BYTES } from './http-server.ts';
export {
  createIngestService,
  type IngestService,
  type IngestServiceDeps,
} from './ingest-service.ts';
export { MAX_JSON_DEPTH, validateJson } from './json-validation.ts';
export { createIngestKafkaClient } from './kafka-client.ts';
export { createIngestMetrics, type IngestMetrics } from './metrics.ts';
export { type BatchPartitioner, createBatchPartitioner } from './partitioner.ts';
export {
  createProduceBatcher,
  type Placement,
  type ProduceBatcher,
  type ProducePort,
} from './produce-batcher.ts';
export { createKafkaProducer, type KafkaProducer } from './producer.ts';
export { createReadiness, type Readiness, type ReadinessStatus } from './readiness.ts';
