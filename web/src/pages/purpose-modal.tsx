import { EuiButton, EuiButtonEmpty, EuiCallOut, EuiFieldText, EuiForm, EuiFormRow, EuiModal, EuiModalBody, EuiModalFooter, EuiModalHeader, EuiModalHeaderTitle, EuiSpacer, EuiText, EuiTextArea } from '@elastic/eui';
import { useState, type FormEvent } from 'react';
import { api, type Purpose } from '../api';
import { useSession } from '../session';

/** Asks the legal basis and the reason of the searches that follow; both are required. */
export function PurposeModal(props: { current: Purpose | null; onClose: (purpose: Purpose | undefined) => void }) {
  const { setSession } = useSession();
  const [legalBasis, setLegalBasis] = useState(props.current?.legal_basis ?? '');
  const [reason, setReason] = useState(props.current?.reason ?? '');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const missingBasis = legalBasis.trim() === '';
  const missingReason = reason.trim() === '';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (missingBasis || missingReason) return;
    setBusy(true);
    try {
      const purpose = { legal_basis: legalBasis.trim(), reason: reason.trim() };
      const session = await api.setPurpose(purpose);
      setSession(session);
      props.onClose(purpose);
    } catch (caught) {
      setError((caught as Error).message);
      setBusy(false);
    }
  };

  return (
    <EuiModal onClose={() => props.onClose(undefined)} style={{ width: 560 }} data-test-subj="purposeModal">
      <EuiForm component="form" onSubmit={submit}>
        <EuiModalHeader>
          <EuiModalHeaderTitle>State the purpose of your searches</EuiModalHeaderTitle>
        </EuiModalHeader>
        <EuiModalBody>
          <EuiText size="s">
            <p>Reading the record is itself recorded: every search, document view, correlation and export is kept in MLog's audit trail with your name and this purpose.</p>
          </EuiText>
          <EuiSpacer />
          {error !== undefined && (
            <>
              <EuiCallOut color="danger" iconType="error" title={error} />
              <EuiSpacer />
            </>
          )}
          <EuiFormRow label="Legal basis" helpText="The law, article or mandate that allows this search" isInvalid={touched && missingBasis} error="The legal basis is required.">
            <EuiFieldText name="legal_basis" value={legalBasis} onChange={(e) => setLegalBasis(e.target.value)} isInvalid={touched && missingBasis} autoFocus />
          </EuiFormRow>
          <EuiFormRow label="Reason" helpText="What you are looking for and why (e.g. a request number)" isInvalid={touched && missingReason} error="The reason is required.">
            <EuiTextArea name="reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} isInvalid={touched && missingReason} />
          </EuiFormRow>
        </EuiModalBody>
        <EuiModalFooter>
          <EuiButtonEmpty onClick={() => props.onClose(undefined)}>Cancel</EuiButtonEmpty>
          <EuiButton type="submit" fill isLoading={busy} data-test-subj="purposeSubmit">
            Use this purpose
          </EuiButton>
        </EuiModalFooter>
      </EuiForm>
    </EuiModal>
  );
}
