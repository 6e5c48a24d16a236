/** The event rules through syslog over TLS, the events as MSG (jws-lines). */
import { eventRulesContract } from './event-rules-contract.js';
import { syslogTlsDoor } from './syslog-register-doors.js';

eventRulesContract(syslogTlsDoor('jws-lines'));
