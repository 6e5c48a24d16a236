/** The event rules through RELP over TLS, the events as MSG (json-lines). */
import { eventRulesContract } from './event-rules-contract.js';
import { relpDoor } from './syslog-register-doors.js';

eventRulesContract(relpDoor('json-lines'));
