package io.github.pulsaroutbox.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.Environment;

import java.util.Optional;

/**
 * Fails the start when a property under the prefix this project used before it had a namespace of its own
 * ({@value #LEGACY_PREFIX}) is set, naming the property to use instead: a silently ignored setting (a topic
 * mapping, a disabled relay) would change what the application publishes. Runs whether or not the outbox is
 * enabled, because {@code axon.outbox.enabled=false} is such a setting too.
 */
@AutoConfiguration
class LegacyPropertiesAutoConfiguration {

    static final String LEGACY_PREFIX = "axon.outbox";
    private static final ConfigurationPropertyName LEGACY = ConfigurationPropertyName.of(LEGACY_PREFIX);

    LegacyPropertiesAutoConfiguration(Environment environment) {
        legacyProperty(environment).ifPresent(property -> {
            String name = original(property.getName());
            throw new InvalidConfigurationPropertyValueException(
                    name, property.getValue(),
                    "The " + LEGACY_PREFIX + ".* properties were renamed to " + OutboxProperties.PREFIX
                            + ".*: set " + replacement(name) + " instead");
        });
    }

    /** The first property under the legacy prefix, in any relaxed form (properties, YAML, environment variables). */
    static Optional<ConfigurationProperty> legacyProperty(Environment environment) {
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            if (source instanceof IterableConfigurationPropertySource iterable) {
                Optional<ConfigurationProperty> found = iterable.stream()
                                                                .filter(LEGACY::isAncestorOf)
                                                                .findFirst()
                                                                .map(iterable::getConfigurationProperty);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The name as it was written, map keys in their own case ({@code axon.outbox.topics.Account}, not the canonical
     * lowercase form): a topic mapping's key is an aggregate type name, and the advice must be usable as given.
     */
    static String original(ConfigurationPropertyName name) {
        StringBuilder written = new StringBuilder();
        for (int i = 0; i < name.getNumberOfElements(); i++) {
            String element = name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL);
            if (name.isNumericIndex(i) || !element.matches("[A-Za-z0-9_-]+")) { // as written: [shop.Order], [a/b]
                written.append('[').append(element).append(']');
            } else {
                written.append(written.isEmpty() ? "" : ".").append(element);
            }
        }
        return written.toString();
    }

    static String replacement(String legacyName) {
        return OutboxProperties.PREFIX + legacyName.substring(LEGACY_PREFIX.length());
    }
}
