// Checks one event of MLog's evidence offline with java.security only (Java 15 or later: Ed25519):
//   java VerifyEvidence.java RECEIPT_FILE JWK_X CHECKPOINT_JWS LEAF_JSON POSITION TREE_SIZE AUDIT_PATH
// RECEIPT_FILE: the MLog-Receipt header; JWK_X: the "x" of MLog's key (GET /checkpoints/latest, an
// Ed25519 OKP key; for an ES256 key use an EC KeyFactory and "SHA256withECDSAinP1363Format");
// CHECKPOINT_JWS, LEAF_JSON (RFC 8785 text of the leaf), POSITION, TREE_SIZE and AUDIT_PATH (hex,
// comma separated, nearest first) from GET /proof/{uid}. Prints the receipt's and the checkpoint's
// payloads and the root the path leads to; exit 0 when both signatures verify and the root is the
// checkpoint's.
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

public class VerifyEvidence {
    static byte[] sha256(byte[]... parts) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        for (byte[] part : parts) digest.update(part);
        return digest.digest();
    }

    /** An Ed25519 public key from the JWK's x: the SubjectPublicKeyInfo prefix, then the 32 key bytes. */
    static PublicKey ed25519(String x) throws Exception {
        byte[] raw = Base64.getUrlDecoder().decode(x);
        byte[] spki = HexFormat.of().parseHex("302a300506032b6570032100" + HexFormat.of().formatHex(raw));
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    }

    /** The payload of a compact JWS whose signature verifies with the key; an exception otherwise. */
    static String verifiedPayload(String jws, PublicKey key) throws Exception {
        String[] parts = jws.trim().split("\\.");
        Signature signature = Signature.getInstance("Ed25519");
        signature.initVerify(key);
        signature.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        if (!signature.verify(Base64.getUrlDecoder().decode(parts[2]))) throw new SecurityException("signature does not verify");
        return new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    }

    /** RFC 9162 section 2.1.3.2. */
    static byte[] rootFromPath(long index, long size, byte[] leaf, byte[][] path) throws Exception {
        long fn = index, sn = size - 1;
        byte[] r = leaf;
        for (byte[] p : path) {
            if (sn == 0) return null;
            if (fn % 2 == 1 || fn == sn) {
                r = sha256(new byte[] {1}, p, r);
                if (fn % 2 == 0) do { fn >>= 1; sn >>= 1; } while (fn % 2 == 0 && fn != 0);
            } else {
                r = sha256(new byte[] {1}, r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 ? r : null;
    }

    public static void main(String[] args) throws Exception {
        PublicKey key = ed25519(args[1]);
        System.out.println("receipt: " + verifiedPayload(Files.readString(Path.of(args[0])), key));
        String checkpoint = verifiedPayload(args[2], key);
        System.out.println("checkpoint: " + checkpoint);
        byte[] leaf = sha256(new byte[] {0}, args[3].getBytes(StandardCharsets.UTF_8));
        String[] hex = args[6].isEmpty() ? new String[0] : args[6].split(",");
        byte[][] path = new byte[hex.length][];
        for (int i = 0; i < hex.length; i++) path[i] = HexFormat.of().parseHex(hex[i]);
        byte[] root = rootFromPath(Long.parseLong(args[4]), Long.parseLong(args[5]), leaf, path);
        String rootHex = root == null ? "none" : HexFormat.of().formatHex(root);
        System.out.println("root from the audit path: " + rootHex);
        boolean holds = checkpoint.contains("\"root\":\"" + rootHex + "\"");
        System.out.println(holds ? "the event is in the signed checkpoint" : "NOT VERIFIED");
        System.exit(holds ? 0 : 1);
    }
}
