/** The event rules through RELP over TLS, the events as MSG (jws-payload). */
import { eventRulesContract } from './event-rules-contract.js';
import { relpDoor } from './syslog-register-doors.js';

eventRulesContract(relpDoor('jws-payload'));
