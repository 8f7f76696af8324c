package io.github.pulsaroutbox.pulsar;

import org.axonframework.common.AxonConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Checks, when the outbox starts, that broker deduplication is on for every outbox topic: the precondition of
 * effectively-once delivery (without it delivery is at least once). It asks the broker's admin REST API for each
 * topic's applied setting (topic, else namespace, else broker), so it needs the admin URL and, on a secured cluster,
 * the permission to read topic policies.
 * <p>
 * {@link Mode#WARN} logs the topics without deduplication (and those it could not check); {@link Mode#REQUIRE} fails
 * the start naming them and the command that turns deduplication on; {@link Mode#OFF} does nothing.
 */
public final class DeduplicationCheck implements Consumer<Collection<String>> {

    private static final Logger logger = LoggerFactory.getLogger(DeduplicationCheck.class);

    /** What to do about a topic without deduplication. */
    public enum Mode {
        /** Do not check. */
        OFF,
        /** Log a warning (the default). */
        WARN,
        /** Fail the start. */
        REQUIRE
    }

    private final String adminUrl;
    private final Mode mode;
    private final HttpClient http;

    /**
     * @param adminUrl the broker's admin (web service) URL, e.g. {@code http://broker:8080}
     * @param mode     what to do about a topic without deduplication
     */
    public DeduplicationCheck(String adminUrl, Mode mode) {
        this.adminUrl = Objects.requireNonNull(adminUrl, "adminUrl").replaceAll("/+$", "");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * Checks the topics.
     *
     * @throws AxonConfigurationException in {@link Mode#REQUIRE} when a topic has deduplication off or cannot be
     *                                    checked
     */
    @Override
    public void accept(Collection<String> topics) {
        if (mode == Mode.OFF || topics.isEmpty()) {
            return;
        }
        List<String> off = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (String topic : new TreeSet<>(topics)) {
            Boolean enabled = deduplicationOf(PulsarTopics.normalize(topic));
            if (enabled == null) {
                unknown.add(topic);
            } else if (!enabled) {
                off.add(topic);
            }
        }
        if (off.isEmpty() && unknown.isEmpty()) {
            logger.info("Broker deduplication is on for the outbox topics {}: delivery is effectively once",
                        new TreeSet<>(topics));
            return;
        }
        String message = (off.isEmpty() ? "" : "Broker deduplication is off for outbox topic(s) " + off + ". ")
                + (unknown.isEmpty() ? "" : "Could not check broker deduplication (admin API at " + adminUrl
                + ") for outbox topic(s) " + unknown + ". ")
                + "Without it delivery is at least once (consumers must deduplicate on ce_id). Turn it on with "
                + "'pulsar-admin namespaces set-deduplication --enable <tenant/namespace>' (or "
                + "brokerDeduplicationEnabled=true), or set pulsar-outbox.pulsar.deduplication=warn or off";
        if (mode == Mode.REQUIRE) {
            throw new AxonConfigurationException(message);
        }
        logger.warn(message);
    }

    /** The applied deduplication setting of a topic; {@code null} when the broker cannot tell (or be asked). */
    private Boolean deduplicationOf(String topic) {
        String[] domainAndPath = topic.split("://", 2);
        String path = adminUrl + "/admin/v2/" + domainAndPath[0] + "/" + domainAndPath[1]
                + "/deduplicationEnabled?applied=true";
        String body = get(path);
        if (body == null) { // the topic may not exist yet: the namespace's setting, if it has one
            String[] parts = domainAndPath[1].split("/");
            body = get(adminUrl + "/admin/v2/namespaces/" + parts[0] + "/" + parts[1] + "/deduplication");
        }
        if (body == null || body.isBlank()) {
            return null;
        }
        return switch (body.trim()) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        };
    }

    private String get(String url) {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? response.body() : null;
        } catch (IOException | IllegalArgumentException e) {
            logger.debug("Asking {} failed", url, e);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
