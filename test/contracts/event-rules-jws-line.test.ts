/** The event rules through POST /register, each event a JWS of its own on its own line. */
import { eventRulesContract } from './event-rules-contract.js';
import { jwsLineDoor } from './register-doors.js';

eventRulesContract(jwsLineDoor);
