/** The event rules through POST /register, one JWS whose payload holds several events. */
import { eventRulesContract } from './event-rules-contract.js';
import { jwsPayloadDoor } from './register-doors.js';

eventRulesContract(jwsPayloadDoor);
