import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;

/**
 * Signs an MLog event (or several, one JSON object per line) with the system certificate's key and
 * prints the JWS in compact serialization, ready for POST /register.
 *
 * Adapted from the JoseTest example of the MLog API reference: the key and certificate come from a
 * keystore (PKCS#12 or JKS), and the certificate is read with java.security.cert.X509Certificate
 * (javax.security.cert and com.sun.security.cert.internal.x509 are gone from current JDKs).
 *
 *   java -cp nimbus-jose-jwt-10.5.jar SignEvent.java <keystore> <password> <alias> <event-file>
 */
public class SignEvent {
    public static void main(final String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: java -cp nimbus-jose-jwt.jar SignEvent.java <keystore> <password> <alias> <event-file>");
            System.exit(2);
        }
        final char[] password = args[1].toCharArray();
        final KeyStore ks = KeyStore.getInstance(args[0].endsWith(".jks") ? "JKS" : "PKCS12");
        try (FileInputStream in = new FileInputStream(args[0])) {
            ks.load(in, password);
        }
        final KeyStore.PrivateKeyEntry entry =
            (KeyStore.PrivateKeyEntry) ks.getEntry(args[2], new KeyStore.PasswordProtection(password));
        final PrivateKey privateKey = entry.getPrivateKey();
        final X509Certificate certificate = (X509Certificate) entry.getCertificate();

        final JWSAlgorithm algorithm;
        final JWSSigner signer;
        if (privateKey instanceof RSAPrivateKey) {
            algorithm = JWSAlgorithm.RS256;
            signer = new RSASSASigner(privateKey);
        } else if (privateKey instanceof ECPrivateKey) {
            final int bits = ((ECPrivateKey) privateKey).getParams().getCurve().getField().getFieldSize();
            algorithm = bits == 384 ? JWSAlgorithm.ES384 : JWSAlgorithm.ES256;
            signer = new ECDSASigner((ECPrivateKey) privateKey);
        } else {
            throw new IllegalArgumentException("MLog accepts RSA and EC (P-256, P-384) keys");
        }

        // kid = the certificate's serial number in hex, as BigInteger.toString(16) prints it.
        final JWSHeader header = new JWSHeader.Builder(algorithm)
            .keyID(certificate.getSerialNumber().toString(16))
            .build();

        final String event = Files.readString(Path.of(args[3]), StandardCharsets.UTF_8).strip();
        final JWSObject jws = new JWSObject(header, new Payload(event));
        jws.sign(signer);
        System.out.println(jws.serialize());
    }
}
