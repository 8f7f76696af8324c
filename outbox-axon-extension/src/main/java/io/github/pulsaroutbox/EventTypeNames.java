package io.github.pulsaroutbox;

import org.axonframework.common.AxonConfigurationException;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The logical name of each event type, the {@code ce_type} consumers see, from the payload type name the outbox stores
 * (the Java class name): a configured mapping first, then the payload class's {@link Outbox.EventType @Outbox.EventType},
 * then the class's simple name (the innermost name of a nested class). The class name itself never leaves the
 * service, so consumers do not depend on the producer's package layout. Names are resolved once per type and cached.
 */
public final class EventTypeNames implements Function<String, String> {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._:-]{1,255}");

    private final Map<String, String> overrides;
    private final Map<String, String> resolved = new ConcurrentHashMap<>();

    private EventTypeNames(Map<String, String> overrides) {
        overrides.forEach(EventTypeNames::validate);
        this.overrides = Map.copyOf(overrides);
    }

    /** Annotations and simple class names only. */
    public static EventTypeNames defaults() {
        return new EventTypeNames(Map.of());
    }

    /**
     * With configured names, per payload type name (class name), taking precedence over annotations.
     *
     * @throws AxonConfigurationException for a name with characters other than letters, digits, '.', '_', ':', '-'
     */
    public static EventTypeNames withOverrides(Map<String, String> overrides) {
        return new EventTypeNames(overrides);
    }

    @Override
    public String apply(String payloadType) {
        return resolved.computeIfAbsent(payloadType, this::resolve);
    }

    private String resolve(String payloadType) {
        String configured = overrides.get(payloadType);
        if (configured != null) {
            return configured;
        }
        return annotated(payloadType).orElseGet(() -> payloadType.substring(
                Math.max(payloadType.lastIndexOf('.'), payloadType.lastIndexOf('$')) + 1));
    }

    private static Optional<String> annotated(String payloadType) {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        try {
            Class<?> type = Class.forName(payloadType, false, context != null ? context
                                                                               : EventTypeNames.class.getClassLoader());
            Outbox.EventType name = type.getAnnotation(Outbox.EventType.class);
            return name == null ? Optional.empty() : Optional.of(validate(payloadType, name.value()));
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
    }

    private static String validate(String payloadType, String name) {
        if (name == null || !VALID.matcher(name).matches()) {
            throw new AxonConfigurationException("The event type name '" + name + "' of " + payloadType
                                                         + " must be 1 to 255 letters, digits, '.', '_', ':' or '-'");
        }
        return name;
    }
}
