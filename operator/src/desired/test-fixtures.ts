// The shared sample CRs, for this module's unit tests.
export { sampleCluster, sampleGroup, sampleTopic } from '../api/test-fixtures.js';
