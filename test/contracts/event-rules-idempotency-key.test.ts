/** The event rules through POST /register with an Idempotency-Key header. */
import { eventRulesContract } from './event-rules-contract.js';
import { idempotencyKeyDoor } from './register-doors.js';

eventRulesContract(idempotencyKeyDoor);
