package io.github.pulsaroutbox.pulsar;

import java.util.regex.Pattern;

/**
 * Validation and normalization of Pulsar topic names, so that a malformed name fails at configuration time rather
 * than at the first send.
 */
public final class PulsarTopics {

    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.=:\\-]+");
    private static final String DEFAULT_TENANT_NAMESPACE = "public/default";

    private PulsarTopics() {
    }

    /**
     * Normalizes a topic name to its full form {@code domain://tenant/namespace/topic}: a short name {@code orders}
     * becomes {@code persistent://public/default/orders}, {@code shop/sales/orders} becomes
     * {@code persistent://shop/sales/orders}.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code topic}
     */
    public static String normalize(String topic) {
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("a topic name may not be empty");
        }
        String name = topic.trim();
        String domain = "persistent";
        int scheme = name.indexOf("://");
        if (scheme >= 0) {
            domain = name.substring(0, scheme);
            if (!domain.equals("persistent") && !domain.equals("non-persistent")) {
                throw new IllegalArgumentException("'" + topic + "' has domain '" + domain
                                                           + "'; use persistent:// or non-persistent://");
            }
            name = name.substring(scheme + 3);
        }
        String[] parts = name.split("/", -1);
        if (parts.length == 1 && scheme < 0) {
            parts = (DEFAULT_TENANT_NAMESPACE + "/" + name).split("/", -1);
        }
        if (parts.length != 3) {
            throw new IllegalArgumentException("'" + topic + "' is not a topic name: expected 'topic', "
                                                       + "'tenant/namespace/topic' or "
                                                       + "'persistent://tenant/namespace/topic'");
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches()) {
                throw new IllegalArgumentException("'" + topic + "' has an invalid part '" + part
                                                           + "': use letters, digits and _ . = : -");
            }
        }
        return domain + "://" + String.join("/", parts);
    }
}
