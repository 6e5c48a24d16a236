/** The event rules through POST /register, one JSON object per line. */
import { eventRulesContract } from './event-rules-contract.js';
import { jsonLineDoor } from './register-doors.js';

eventRulesContract(jsonLineDoor);
